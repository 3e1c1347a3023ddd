-- location: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'location') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as location_id,
    barcode as location_barcode,
    {{ wms_id('facility_id') }} as facility_id,
    facility_id_key as facility_code,
    {{ wms_id('location_type_id') }} as location_type_id,
    location_type_id_key as location_type_code,
    area,
    aisle,
    bay,
    level,
    {{ wms_decimal('max_units') }} as max_units,
    {{ wms_id('max_lpns') }} as max_lpns,
    {{ wms_id('pick_sequence') }} as pick_sequence,
    allow_multi_sku_flg,
    {{ wms_date('last_count_date') }} as last_count_date,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
