-- item: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'item') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as item_id,
    code as item_code,
    {{ wms_id('company_id') }} as company_id,
    company_id_key as company_code,
    description as item_description,
    barcode,
    {{ wms_decimal('std_case_qty') }} as std_case_qty,
    {{ wms_decimal('unit_cost', 4) }} as unit_cost,
    {{ wms_decimal('unit_weight') }} as unit_weight,
    {{ wms_decimal('unit_volume') }} as unit_volume,
    hazmat_flg,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
