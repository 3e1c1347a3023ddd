-- inventory_history: the latest version of each row, typed (exact decimals, dates, timestamps
-- with time zone), foreign keys as the plain id and the business key.
{%- set relation = source('wms', 'inventory_history') -%}
{%- set types = wms_column_types(relation) %}
with latest as (
    {{ wms_latest(relation, newest=['create_ts']) }}
)
select
    {{ wms_id('id') }} as history_id,
    {{ wms_id('company_id') }} as company_id,
    company_id_key as company_code,
    {{ wms_id('facility_id') }} as facility_id,
    facility_id_key as facility_code,
    {{ wms_id('history_activity_id') }} as history_activity_id,
    history_activity_id_key as history_activity_code,
    {{ wms_id('status_id') }} as container_status_id,
    item_code,
    container_nbr,
    group_nbr,
    {{ wms_decimal('adj_qty') }} as adj_qty,
    {{ wms_decimal('orig_qty') }} as orig_qty,
    reason_code,
    transaction_ref_nbr,
    {{ wms_timestamp('create_ts', types) }} as create_ts,
    create_user
from latest
