-- iblpn: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'iblpn') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as iblpn_id,
    container_nbr,
    {{ wms_id('company_id') }} as company_id,
    company_id_key as company_code,
    {{ wms_id('facility_id') }} as facility_id,
    facility_id_key as facility_code,
    {{ wms_id('status_id') }} as container_status_id,
    {{ wms_id('shipment_id') }} as shipment_id,
    shipment_id_key as shipment_nbr,
    {{ wms_id('location_id') }} as location_id,
    location_id_key as location_barcode,
    {{ wms_decimal('weight') }} as weight,
    {{ wms_decimal('volume') }} as volume,
    {{ wms_date('priority_date') }} as priority_date,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
