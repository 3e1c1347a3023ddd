-- The allocations of each order (over its lines), for mart_order_cycle_times (its header says
-- how each milestone is derived): when the first was created, how many there are, how many are
-- Picked or Packed, how many Cancelled, and the last change of a picked one. Statuses are read
-- by their codes from the loaded status table. One row per order that has an allocation.
with allocations as (
    select
        order_dtl.order_id,
        allocation.create_ts,
        allocation.mod_ts,
        allocation_status.allocation_status_code
    from {{ ref('stg_wms__allocation') }} as allocation
    inner join {{ ref('stg_wms__order_dtl') }} as order_dtl
        on allocation.order_dtl_id = order_dtl.order_dtl_id
    inner join {{ ref('stg_wms__allocation_status') }} as allocation_status
        on allocation.allocation_status_id = allocation_status.allocation_status_id
),

allocated as (
    select
        order_id,
        min(create_ts) as allocated_ts,
        count(*) as allocations,
        sum(case when allocation_status_code in ('PICKED', 'PACKED') then 1 else 0 end)
            as picked_allocations,
        sum(case when allocation_status_code = 'CANCELLED' then 1 else 0 end)
            as cancelled_allocations,
        max(case when allocation_status_code in ('PICKED', 'PACKED') then mod_ts end)
            as last_pick_ts
    from allocations
    group by order_id
)

select * from allocated
