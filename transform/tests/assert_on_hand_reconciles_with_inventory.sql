-- On hand in the mart equals the sum of the inventory rows, per facility, and so do the row
-- counts: a row here is a facility where they differ (or that only one side has).
with mart as (
    select facility_id, sum(on_hand_qty) as on_hand_qty, sum(inventory_rows) as inventory_rows
    from {{ ref('mart_inventory_on_hand') }}
    group by facility_id
),

inventory as (
    select facility_id, sum(curr_qty) as on_hand_qty, count(*) as inventory_rows
    from {{ ref('stg_wms__inventory') }}
    group by facility_id
)

select
    coalesce(mart.facility_id, inventory.facility_id) as facility_id,
    mart.on_hand_qty as mart_qty,
    inventory.on_hand_qty as inventory_qty,
    mart.inventory_rows as mart_rows,
    inventory.inventory_rows as inventory_rows
from mart
full outer join inventory on inventory.facility_id = mart.facility_id
where mart.facility_id is null
    or inventory.facility_id is null
    or mart.on_hand_qty <> inventory.on_hand_qty
    or mart.inventory_rows <> inventory.inventory_rows
