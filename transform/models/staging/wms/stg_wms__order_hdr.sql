-- order_hdr: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'order_hdr') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as order_id,
    order_nbr,
    {{ wms_id('company_id') }} as company_id,
    company_id_key as company_code,
    {{ wms_id('facility_id') }} as facility_id,
    facility_id_key as facility_code,
    {{ wms_id('order_type_id') }} as order_type_id,
    order_type_id_key as order_type_code,
    {{ wms_id('status_id') }} as order_status_id,
    {{ wms_id('priority') }} as priority,
    {{ wms_date('ord_date') }} as ord_date,
    {{ wms_date('req_ship_date') }} as req_ship_date,
    cust_name,
    cust_city,
    cust_country,
    {{ wms_decimal('total_orig_ord_qty') }} as total_orig_ord_qty,
    externally_planned_load_flg,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
