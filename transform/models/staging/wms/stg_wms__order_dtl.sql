-- order_dtl: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'order_dtl') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as order_dtl_id,
    {{ wms_id('order_id') }} as order_id,
    order_id_key as order_nbr,
    {{ wms_id('seq_nbr') }} as seq_nbr,
    {{ wms_id('item_id') }} as item_id,
    item_id_key as item_code,
    {{ wms_decimal('ord_qty') }} as ord_qty,
    {{ wms_decimal('orig_ord_qty') }} as orig_ord_qty,
    {{ wms_decimal('alloc_qty') }} as alloc_qty,
    {{ wms_decimal('shipped_qty') }} as shipped_qty,
    {{ wms_decimal('unit_sale_price', 2) }} as unit_sale_price,
    {{ wms_id('status_id') }} as order_status_id,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
