-- Open orders: orders whose status is below Shipped and not Cancelled, as Oracle treats an order
-- as open (REST API guide 25B, "PATCH Order": an order changes only while its status is below
-- Shipped), read by status CODE from the loaded order_status table. ord_qty and alloc_qty are
-- the sums of the order's lines (order_dtl ord_qty and alloc_qty, the Ordered and Allocated
-- quantities). Age (days since ord_date) and lateness against req_ship_date, as of var
-- as_of_date (env WMS_AS_OF_DATE; default today), are our own measures.
with orders as (
    select * from {{ ref('stg_wms__order_hdr') }}
),

statuses as (
    select
        order_status_id,
        order_status_code
    from {{ ref('stg_wms__order_status') }}
),

lines as (
    select
        order_id,
        count(*) as order_lines,
        sum(ord_qty) as ord_qty,
        sum(alloc_qty) as alloc_qty
    from {{ ref('stg_wms__order_dtl') }}
    group by order_id
),

open_orders as (
    select
        orders.*,
        statuses.order_status_code,
        {{ wms_as_of_date() }} as as_of_date
    from orders
    inner join statuses on orders.order_status_id = statuses.order_status_id
    where statuses.order_status_code not in ('SHIPPED', 'CANCELLED')
)

select
    open_orders.order_id,
    open_orders.order_nbr,
    open_orders.facility_id,
    open_orders.facility_code,
    open_orders.company_code,
    open_orders.order_type_code,
    open_orders.order_status_id,
    open_orders.order_status_code,
    open_orders.priority,
    open_orders.cust_name,
    open_orders.ord_date,
    open_orders.req_ship_date,
    open_orders.create_ts,
    open_orders.as_of_date,
    {{ wms_days_between('open_orders.ord_date', 'open_orders.as_of_date') }} as age_days,
    case
        when open_orders.req_ship_date < open_orders.as_of_date
            then {{ wms_days_between('open_orders.req_ship_date', 'open_orders.as_of_date') }}
        else 0
    end as days_late,
    coalesce(open_orders.req_ship_date < open_orders.as_of_date, false) as is_late,
    coalesce(lines.order_lines, 0) as order_lines,
    cast(coalesce(lines.ord_qty, 0) as numeric(18, 3)) as ord_qty,
    cast(coalesce(lines.alloc_qty, 0) as numeric(18, 3)) as alloc_qty
from open_orders
left join lines on open_orders.order_id = lines.order_id
