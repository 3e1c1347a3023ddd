-- ib_shipment: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'ib_shipment') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as shipment_id,
    shipment_nbr,
    {{ wms_id('company_id') }} as company_id,
    company_id_key as company_code,
    {{ wms_id('facility_id') }} as facility_id,
    facility_id_key as facility_code,
    {{ wms_id('vendor_id') }} as vendor_id,
    vendor_id_key as vendor_code,
    {{ wms_id('status_id') }} as ib_shipment_status_id,
    trailer_nbr,
    ref_nbr,
    {{ wms_date('exp_arrival_date') }} as exp_arrival_date,
    {{ wms_timestamp('verified_ts', types) }} as verified_ts,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
