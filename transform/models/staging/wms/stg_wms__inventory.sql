-- inventory: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'inventory') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as inventory_id,
    {{ wms_id('company_id') }} as company_id,
    company_id_key as company_code,
    {{ wms_id('facility_id') }} as facility_id,
    facility_id_key as facility_code,
    {{ wms_id('item_id') }} as item_id,
    item_id_key as item_code,
    {{ wms_id('location_id') }} as location_id,
    location_id_key as location_barcode,
    {{ wms_id('container_id') }} as iblpn_id,
    container_id_key as container_nbr,
    batch_nbr,
    {{ wms_decimal('curr_qty') }} as curr_qty,
    {{ wms_decimal('orig_qty') }} as orig_qty,
    {{ wms_decimal('pack_qty') }} as pack_qty,
    {{ wms_decimal('case_qty') }} as case_qty,
    {{ wms_date('expiry_date') }} as expiry_date,
    {{ wms_date('manufacture_date') }} as manufacture_date,
    lock_flg,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
