-- ib_shipment_dtl: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'ib_shipment_dtl') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as shipment_dtl_id,
    {{ wms_id('shipment_id') }} as shipment_id,
    shipment_id_key as shipment_nbr,
    {{ wms_id('seq_nbr') }} as seq_nbr,
    {{ wms_id('item_id') }} as item_id,
    item_id_key as item_code,
    {{ wms_id('po_dtl_id') }} as po_dtl_id,
    po_dtl_id_key as po_dtl_key,
    lpn_nbr,
    {{ wms_decimal('shipped_qty') }} as shipped_qty,
    {{ wms_decimal('received_qty') }} as received_qty,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
