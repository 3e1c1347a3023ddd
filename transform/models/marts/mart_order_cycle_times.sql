-- How fast an order goes from created to allocated, picked and shipped: our own measures (no
-- Oracle screen shows them). The WMS keeps no status history per order, so each milestone is
-- derived from the rows the data has (statuses by CODE from the loaded status tables):
--   created_ts   order_hdr.create_ts
--   allocated_ts the first allocation of any of the order's lines (min allocation.create_ts)
--   picked_ts    when every live allocation of the order is Picked (90) or Packed (91): the last
--                of their mod_ts (the change that picked it); else null
--   shipped_ts   for an order in status Shipped: the last mod_ts of its outbound LPNs in status
--                Shipped (80), else the order's own mod_ts (a shipped order is not changed again)
-- A milestone not reached is null, and so are the durations that need it. (The simulator's
-- generated instants are drawn per entity: on its data a step can take negative hours.)
with orders as (
    select * from {{ ref('stg_wms__order_hdr') }}
),

statuses as (
    select
        order_status_id,
        order_status_code
    from {{ ref('stg_wms__order_status') }}
),

allocated as (
    select * from {{ ref('int_wms__order_allocations') }}
),

shipped_lpns as (
    select
        oblpn.order_id,
        max(oblpn.mod_ts) as shipped_ts,
        count(*) as shipped_lpns
    from {{ ref('stg_wms__oblpn') }} as oblpn
    inner join {{ ref('stg_wms__container_status') }} as container_status
        on oblpn.container_status_id = container_status.container_status_id
    where container_status.container_status_code = 'SHIPPED'
    group by oblpn.order_id
),

milestones as (
    select
        orders.order_id,
        orders.order_nbr,
        orders.facility_id,
        orders.facility_code,
        orders.order_type_code,
        statuses.order_status_code,
        orders.create_ts as created_ts,
        allocated.allocated_ts,
        case
            when
                allocated.picked_allocations > 0
                and allocated.picked_allocations + allocated.cancelled_allocations
                = allocated.allocations
                then allocated.last_pick_ts
        end as picked_ts,
        case
            when statuses.order_status_code = 'SHIPPED'
                then coalesce(shipped_lpns.shipped_ts, orders.mod_ts)
        end as shipped_ts,
        coalesce(allocated.allocations, 0) as allocations,
        coalesce(shipped_lpns.shipped_lpns, 0) as shipped_lpns
    from orders
    inner join statuses on orders.order_status_id = statuses.order_status_id
    left join allocated on orders.order_id = allocated.order_id
    left join shipped_lpns on orders.order_id = shipped_lpns.order_id
)

select
    milestones.*,
    {{ wms_hours_between('created_ts', 'allocated_ts') }} as hours_created_to_allocated,
    {{ wms_hours_between('allocated_ts', 'picked_ts') }} as hours_allocated_to_picked,
    {{ wms_hours_between('picked_ts', 'shipped_ts') }} as hours_picked_to_shipped,
    {{ wms_hours_between('created_ts', 'shipped_ts') }} as hours_created_to_shipped
from milestones
