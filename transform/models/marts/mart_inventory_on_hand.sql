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
with container_statuses as (
    select
        container_status_id,
        container_status_code
    from {{ ref('stg_wms__container_status') }}
),

allocation_statuses as (
    select
        allocation_status_id,
        allocation_status_code
    from {{ ref('stg_wms__allocation_status') }}
),

iblpns as (
    select
        iblpn.iblpn_id,
        container_statuses.container_status_code
    from {{ ref('stg_wms__iblpn') }} as iblpn
    inner join container_statuses
        on iblpn.container_status_id = container_statuses.container_status_id
),

oblpns as (
    select
        oblpn.oblpn_id,
        oblpn.container_nbr,
        oblpn.location_id
    from {{ ref('stg_wms__oblpn') }} as oblpn
    inner join container_statuses
        on oblpn.container_status_id = container_statuses.container_status_id
    where container_statuses.container_status_code in ('PACKED', 'LOADED')
),

allocations as (
    select
        allocation.facility_id,
        allocation.facility_code,
        allocation.item_id,
        allocation.item_code,
        allocation.from_location_id,
        allocation.to_oblpn_id,
        allocation.alloc_qty,
        allocation.packed_qty,
        allocation_statuses.allocation_status_code
    from {{ ref('stg_wms__allocation') }} as allocation
    inner join allocation_statuses
        on allocation.allocation_status_id = allocation_statuses.allocation_status_id
),

stock as (
    select
        inventory.facility_id,
        inventory.facility_code,
        inventory.item_id,
        inventory.item_code,
        inventory.location_id,
        inventory.container_nbr as lpn_nbr,
        1 as inventory_rows,
        case when inventory.iblpn_id is null then inventory.curr_qty else 0 end as active_qty,
        case when inventory.iblpn_id is null then 0 else inventory.curr_qty end as iblpn_qty,
        0 as oblpn_qty,
        case
            when iblpns.container_status_code in ('ALLOCATED', 'PARTLY_ALLOCATED')
                then inventory.curr_qty
            else 0
        end as allocated_qty,
        case when coalesce(inventory.lock_flg, false) then inventory.curr_qty else 0 end
            as locked_qty,
        inventory.expiry_date,
        inventory.mod_ts
    from {{ ref('stg_wms__inventory') }} as inventory
    left join iblpns on inventory.iblpn_id = iblpns.iblpn_id
    where
        inventory.iblpn_id is null
        or iblpns.container_status_code in ('RECEIVED', 'LOCATED', 'ALLOCATED', 'PARTLY_ALLOCATED')
),

packed as (
    select
        allocations.facility_id,
        allocations.facility_code,
        allocations.item_id,
        allocations.item_code,
        oblpns.location_id,
        oblpns.container_nbr as lpn_nbr,
        0 as inventory_rows,
        0 as active_qty,
        0 as iblpn_qty,
        allocations.packed_qty as oblpn_qty,
        0 as allocated_qty,
        0 as locked_qty,
        cast(null as date) as expiry_date,
        cast(null as timestamp with time zone) as mod_ts
    from allocations
    inner join oblpns on allocations.to_oblpn_id = oblpns.oblpn_id
    where allocations.allocation_status_code <> 'CANCELLED'
),

reserved as (
    select
        facility_id,
        facility_code,
        item_id,
        item_code,
        from_location_id as location_id,
        cast(null as {{ dbt.type_string() }}) as lpn_nbr,
        0 as inventory_rows,
        0 as active_qty,
        0 as iblpn_qty,
        0 as oblpn_qty,
        alloc_qty - packed_qty as allocated_qty,
        0 as locked_qty,
        cast(null as date) as expiry_date,
        cast(null as timestamp with time zone) as mod_ts
    from allocations
    where allocation_status_code in ('CREATED', 'IN_PICKING')
),

units as (
    select * from stock
    union all
    select * from packed
    union all
    select * from reserved
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
