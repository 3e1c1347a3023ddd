-- The units mart_inventory_on_hand counts, one row per source of units (its header cites
-- Oracle's Inventory Summary for each measure): stock rows (active units and units in IBLPNs in
-- Received, Located or (Partly) Allocated status, what Allocated IBLPNs reserve, locked units),
-- units packed in OBLPNs in Packed or Loaded status, and what open allocations still reserve at
-- their from-location. unit_key names the row: inventory-<id>, packed-<allocation id> or
-- reserved-<allocation id>. Statuses are read by their codes from the loaded status tables.
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
        allocation.allocation_id,
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
        'inventory-' || cast(inventory.inventory_id as {{ dbt.type_string() }}) as unit_key,
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
        'packed-' || cast(allocations.allocation_id as {{ dbt.type_string() }}) as unit_key,
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
        'reserved-' || cast(allocation_id as {{ dbt.type_string() }}) as unit_key,
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
)

select * from units
