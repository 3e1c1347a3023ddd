-- facility: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'facility') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation) }}
)
select
    {{ wms_id('id') }} as facility_id,
    code as facility_code,
    name as facility_name,
    {{ wms_id('company_id') }} as company_id,
    company_id_key as company_code,
    city,
    state,
    country,
    cast(ship_cutoff_time as time) as ship_cutoff_time,
    active_flg,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user,
    {{ wms_timestamp('mod_ts', types) }} as mod_ts,
    mod_user
from latest
