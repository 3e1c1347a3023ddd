-- The on-hand mart counts, per facility, exactly the inventory rows Oracle's Inventory Summary
-- counts (outside any LPN, or in an IBLPN in Received, Located, Allocated or Partly Allocated
-- status: mart_inventory_on_hand's header), with their quantity split into active and IBLPN
-- units: a row here is a facility where the mart and those rows differ (a lost or doubled row).
with mart as (
    select
        facility_id,
        sum(active_qty + iblpn_qty) as counted_qty,
        sum(inventory_rows) as inventory_rows
    from {{ ref('mart_inventory_on_hand') }}
    group by facility_id
),

inventory as (
    select
        inventory.facility_id,
        sum(inventory.curr_qty) as counted_qty,
        count(*) as inventory_rows
    from {{ ref('stg_wms__inventory') }} as inventory
    left join {{ ref('stg_wms__iblpn') }} as iblpn on inventory.iblpn_id = iblpn.iblpn_id
    left join {{ ref('stg_wms__container_status') }} as container_status
        on iblpn.container_status_id = container_status.container_status_id
    where
        inventory.iblpn_id is null
        or container_status.container_status_code in
        ('RECEIVED', 'LOCATED', 'ALLOCATED', 'PARTLY_ALLOCATED')
    group by inventory.facility_id
)

select
    mart.counted_qty as mart_qty,
    inventory.counted_qty as inventory_qty,
    mart.inventory_rows as mart_rows,
    inventory.inventory_rows,
    coalesce(mart.facility_id, inventory.facility_id) as facility_id
from mart
full outer join inventory on mart.facility_id = inventory.facility_id
where
    mart.facility_id is null
    or inventory.facility_id is null
    or mart.counted_qty <> inventory.counted_qty
    or mart.inventory_rows <> inventory.inventory_rows
