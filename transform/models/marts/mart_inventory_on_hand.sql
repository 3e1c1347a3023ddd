-- Inventory on hand by facility, item and location type, by Oracle's "Inventory Summary"
-- (Oracle WMS Cloud 24D, Inventory Management guide, "Inventory Management Modules"):
--   active_qty    "Active Total": units outside any LPN (Oracle keeps those only in active
--                 locations), allocated ones included
--   iblpn_qty     "IBLPN Total": current qty of IBLPNs in Received, Located, Allocated or Partly
--                 Allocated status (not In Transit, Consumed, Lost or Cancelled)
--   oblpn_qty     "OBLPN Total": units currently packed, i.e. the packed_qty of live allocations
--                 in OBLPNs in Packed or Loaded status (packed, not shipped); the WMS holds them
--                 in allocations, not inventory rows
--   on_hand_qty   the three together
--   allocated_qty "Active Allocated" (what open allocations, Created or In Picking, still
--                 reserve: alloc_qty - packed_qty, at their from-location) plus "IBLPN Allocated"
--                 (the units of IBLPNs in Allocated or Partly Allocated status)
--   available_qty "Active Available" + "IBLPN Available": active and IBLPN units less allocated
--                 and less locked units (our own: lock_flg inventory is not allocatable)
-- Statuses are read by their codes from the loaded status tables. The location type is the
-- units' location's (the OBLPN's for packed units); NO_LOCATION when there is none (an IBLPN
-- received but not put away, an OBLPN on a trailer). inventory_rows, locations, lpns,
-- locked_qty, earliest_expiry_date and last_change_ts are our own, over the counted rows.
with units as (
    select * from {{ ref('int_wms__inventory_units') }}
),

locations as (
    select
        location_id,
        location_type_code
    from {{ ref('stg_wms__location') }}
),

grouped as (
    select
        units.facility_id,
        units.facility_code,
        units.item_id,
        units.item_code,
        coalesce(locations.location_type_code, 'NO_LOCATION') as location_type_code,
        sum(units.inventory_rows) as inventory_rows,
        count(distinct case when units.inventory_rows = 1 then units.location_id end) as locations,
        count(distinct units.lpn_nbr) as lpns,
        sum(units.active_qty) as active_qty,
        sum(units.iblpn_qty) as iblpn_qty,
        sum(units.oblpn_qty) as oblpn_qty,
        sum(units.allocated_qty) as allocated_qty,
        sum(units.locked_qty) as locked_qty,
        min(units.expiry_date) as earliest_expiry_date,
        max(units.mod_ts) as last_change_ts
    from units
    left join locations on units.location_id = locations.location_id
    group by 1, 2, 3, 4, 5
)

select
    facility_id,
    facility_code,
    item_id,
    item_code,
    location_type_code,
    inventory_rows,
    locations,
    lpns,
    cast(active_qty + iblpn_qty + oblpn_qty as numeric(18, 3)) as on_hand_qty,
    cast(locked_qty as numeric(18, 3)) as locked_qty,
    cast(active_qty + iblpn_qty - allocated_qty - locked_qty as numeric(18, 3)) as available_qty,
    earliest_expiry_date,
    last_change_ts,
    cast(active_qty as numeric(18, 3)) as active_qty,
    cast(iblpn_qty as numeric(18, 3)) as iblpn_qty,
    cast(oblpn_qty as numeric(18, 3)) as oblpn_qty,
    cast(allocated_qty as numeric(18, 3)) as allocated_qty,
    facility_code || '/' || item_code || '/' || location_type_code as on_hand_key
from grouped
