-- Inventory on hand by facility, item and location type: the sum of curr_qty over the latest
-- inventory rows. Rows in no location (an inbound LPN not yet put away) count under NO_LOCATION.
with inventory as (
    select * from {{ ref('stg_wms__inventory') }}
),

locations as (
    select location_id, location_type_id, location_type_code from {{ ref('stg_wms__location') }}
),

grouped as (
    select
        inventory.facility_id,
        inventory.facility_code,
        inventory.item_id,
        inventory.item_code,
        coalesce(locations.location_type_code, 'NO_LOCATION') as location_type_code,
        count(*) as inventory_rows,
        count(distinct inventory.location_id) as locations,
        count(distinct inventory.iblpn_id) as lpns,
        sum(inventory.curr_qty) as on_hand_qty,
        sum(case when coalesce(inventory.lock_flg, false) then inventory.curr_qty else 0 end) as locked_qty,
        min(inventory.expiry_date) as earliest_expiry_date,
        max(inventory.mod_ts) as last_change_ts
    from inventory
    left join locations on locations.location_id = inventory.location_id
    group by 1, 2, 3, 4, 5
)

select
    facility_code || '/' || item_code || '/' || location_type_code as on_hand_key,
    facility_id,
    facility_code,
    item_id,
    item_code,
    location_type_code,
    inventory_rows,
    locations,
    lpns,
    cast(on_hand_qty as numeric(18, 3)) as on_hand_qty,
    cast(locked_qty as numeric(18, 3)) as locked_qty,
    cast(on_hand_qty - locked_qty as numeric(18, 3)) as available_qty,
    earliest_expiry_date,
    last_change_ts
from grouped
