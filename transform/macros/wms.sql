{#-
  Cross-database helpers for the tables the Singer loaders leave (target-duckdb: ids HUGEINT,
  decimals DOUBLE, dates VARCHAR, date-times naive TIMESTAMP in UTC; target-postgres: bigint,
  numeric, date, timestamp without time zone in UTC, plus _sdc_* columns). Each helper looks at
  the loaded column's type when the model is compiled, so the same model runs on both databases
  and keeps working when a loader starts writing better types.
-#}

{#- The columns of a loaded table: lower-case name -> lower-case data type ({} while parsing). -#}
{% macro wms_column_types(relation) %}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do types.update({column.name | lower: column.data_type | lower}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{% endmacro %}

{#-
  The latest version of each row of a loaded table: one row per `key`, the newest by `newest`
  (mod_ts; create_ts for the append-only history), then by the loader's _sdc_* fields when the
  loader writes them (a loader that appends instead of merging leaves several versions). A row
  that any version marks deleted (_sdc_deleted_at, from the tap's delete sweep or the loader's
  ACTIVATE_VERSION) is left out: that version carries no mod_ts, and a WMS never gives a deleted
  id to another record (docs/api-contract.md N5), so the deletion is the latest word.
-#}
{% macro wms_latest(relation, newest=['mod_ts'], key='id') %}
    {%- set types = wms_column_types(relation) -%}
    {%- set order = [] -%}
    {%- if '_sdc_deleted_at' in types -%}
        {%- do order.append('_sdc_deleted_at desc nulls last') -%}
    {%- endif -%}
    {%- for name in newest + ['_sdc_extracted_at', '_sdc_batched_at', '_sdc_received_at', '_sdc_sequence'] -%}
        {%- if name in types or not execute -%}
            {%- do order.append(name ~ ' desc nulls last') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not order -%}{%- do order.append(key) -%}{%- endif -%}
    select *
    from (
        select
            loaded.*,
            row_number() over (partition by {{ key }} order by {{ order | join(', ') }}) as wms_version_rank
        from {{ relation }} as loaded
    ) as versions
    where wms_version_rank = 1
    {%- if '_sdc_deleted_at' in types %}
      and _sdc_deleted_at is null
    {%- endif %}
{% endmacro %}

{#-
  An exact decimal with the API's fixed places (3; 4 for unit_cost, 2 for unit_sale_price). From
  DuckDB's DOUBLE the cast rounds to the nearest decimal of that scale, which is the value the API
  sent (at most 15 significant digits survive a double exactly).
-#}
{% macro wms_decimal(column, scale=3) -%}
    cast({{ column }} as numeric(18, {{ scale }}))
{%- endmacro %}

{% macro wms_id(column) -%}
    cast({{ column }} as bigint)
{%- endmacro %}

{% macro wms_date(column) -%}
    cast({{ column }} as date)
{%- endmacro %}

{#-
  An instant as timestamp with time zone. A naive timestamp is UTC (the tap emits date-times
  with their offset and both loaders store them converted to UTC); text is parsed with its offset.
-#}
{% macro wms_timestamp(column, types) -%}
    {%- set kind = types.get(column, 'timestamp') -%}
    {%- if 'with time zone' in kind or 'timestamptz' in kind -%}
        {{ column }}
    {%- elif 'timestamp' in kind -%}
        ({{ column }} at time zone 'UTC')
    {%- else -%}
        cast({{ column }} as timestamp with time zone)
    {%- endif -%}
{%- endmacro %}

{#- Whole days from one date to another (dates, not timestamps). -#}
{% macro wms_days_between(start_date, end_date) -%}
    {{ adapter.dispatch('wms_days_between')(start_date, end_date) }}
{%- endmacro %}

{% macro default__wms_days_between(start_date, end_date) -%}
    (cast({{ end_date }} as date) - cast({{ start_date }} as date))
{%- endmacro %}

{% macro duckdb__wms_days_between(start_date, end_date) -%}
    date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{#- Hours between two instants, as a decimal with two places. -#}
{% macro wms_hours_between(start_ts, end_ts) -%}
    {{ adapter.dispatch('wms_hours_between')(start_ts, end_ts) }}
{%- endmacro %}

{% macro default__wms_hours_between(start_ts, end_ts) -%}
    cast(round(cast(extract(epoch from ({{ end_ts }} - {{ start_ts }})) / 3600.0 as numeric), 2) as numeric(18, 2))
{%- endmacro %}

{% macro duckdb__wms_hours_between(start_ts, end_ts) -%}
    cast(round((epoch({{ end_ts }}) - epoch({{ start_ts }})) / 3600.0, 2) as numeric(18, 2))
{%- endmacro %}

{#- The UTC calendar day of an instant. -#}
{% macro wms_utc_date(ts) -%}
    cast(({{ ts }} at time zone 'UTC') as date)
{%- endmacro %}

{#- The date open orders are judged against: var as_of_date, else today. -#}
{% macro wms_as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}

{#- A code table (id, code, description): no timestamps, so the loader's latest version wins. -#}
{% macro wms_code_table(name) -%}
    {%- set relation = source('wms', name) -%}
    with latest as ({{ wms_latest(relation, newest=[]) }})
    select
        {{ wms_id('id') }} as {{ name }}_id,
        code as {{ name }}_code,
        description as {{ name }}_description
    from latest
{%- endmacro %}

{#-
  The loaded relation's ids marked deleted (_sdc_deleted_at), as a subquery; none when the loader
  keeps no such column (it then hard-deletes, or was never told of a delete).
-#}
{% macro wms_deleted_ids(relation) -%}
    {%- set types = wms_column_types(relation) -%}
    {%- if '_sdc_deleted_at' in types -%}
        select {{ wms_id('id') }} from {{ relation }} where _sdc_deleted_at is not null
    {%- else -%}
        select {{ wms_id('id') }} from {{ relation }} where 1 = 0
    {%- endif -%}
{%- endmacro %}
