-- Every order in staging whose status is neither Shipped nor Cancelled is in the open-orders
-- mart, and no other: a row here is an order on one side only.
with open_in_staging as (
    select orders.order_id
    from {{ ref('stg_wms__order_hdr') }} as orders
    inner join {{ ref('stg_wms__order_status') }} as statuses
        on orders.order_status_id = statuses.order_status_id
    where statuses.order_status_code not in ('SHIPPED', 'CANCELLED')
)

select
    coalesce(open_in_staging.order_id, mart.order_id) as order_id,
    open_in_staging.order_id is not null as in_staging,
    mart.order_id is not null as in_mart
from open_in_staging
full outer join {{ ref('mart_open_orders') }} as mart on open_in_staging.order_id = mart.order_id
where open_in_staging.order_id is null or mart.order_id is null
