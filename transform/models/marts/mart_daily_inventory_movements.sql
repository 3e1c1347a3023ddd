-- Inventory movements per facility, UTC day and history activity, from inventory_history:
-- quantities in (adj_qty > 0) and out (adj_qty < 0, shown positive), net, rows and transactions.
-- Our own measures (no Oracle screen sums them this way); activities by their CODE.
with history as (
    select * from {{ ref('stg_wms__inventory_history') }}
),

daily as (
    select
        facility_id,
        facility_code,
        {{ wms_utc_date('create_ts') }} as movement_date,
        history_activity_code,
        count(*) as history_rows,
        count(distinct group_nbr) as transactions,
        count(distinct item_code) as items,
        sum(case when adj_qty > 0 then adj_qty else 0 end) as qty_in,
        sum(case when adj_qty < 0 then -adj_qty else 0 end) as qty_out,
        sum(adj_qty) as net_qty
    from history
    group by 1, 2, 3, 4
)

select
    facility_code
    || '/'
    || cast(movement_date as {{ dbt.type_string() }})
    || '/'
    || history_activity_code as movement_key,
    facility_id,
    facility_code,
    movement_date,
    history_activity_code,
    history_rows,
    transactions,
    items,
    cast(qty_in as numeric(18, 3)) as qty_in,
    cast(qty_out as numeric(18, 3)) as qty_out,
    cast(net_qty as numeric(18, 3)) as net_qty
from daily
