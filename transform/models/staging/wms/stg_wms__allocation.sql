-- allocation: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'allocation') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as allocation_id,
    {{ wms_id('facility_id') }} as facility_id,
    facility_id_key as facility_code,
    {{ wms_id('order_dtl_id') }} as order_dtl_id,
    order_dtl_id_key as order_dtl_key,
    {{ wms_id('item_id') }} as item_id,
    item_id_key as item_code,
    {{ wms_id('from_location_id') }} as from_location_id,
    from_location_id_key as from_location_barcode,
    {{ wms_id('to_container_id') }} as to_oblpn_id,
    to_container_id_key as to_container_nbr,
    {{ wms_decimal('alloc_qty') }} as alloc_qty,
    {{ wms_decimal('packed_qty') }} as packed_qty,
    {{ wms_id('status_id') }} as allocation_status_id,
    {{ wms_id('wave_id') }} as wave_id,
    {{ wms_id('task_id') }} as task_id,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
