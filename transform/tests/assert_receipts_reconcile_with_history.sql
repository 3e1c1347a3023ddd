-- Receipts equal the inventory history rows of the receiving activity (RECEIPT):
--   1. the daily movements' RECEIPT rows and net quantity equal those of the history, and
--   2. the receipts the ASN mart attributes to shipments equal the RECEIPT rows of inbound LPNs
--      that belong to a shipment.
-- A row here is a check whose two sides differ.
with history as (
    select * from {{ ref('stg_wms__inventory_history') }}
    where history_activity_code = 'RECEIPT'
),

asn_lpns as (
    select
        container_nbr,
        facility_id
    from {{ ref('stg_wms__iblpn') }}
    where shipment_id is not null
),

checks as (
    select
        'daily movements' as check_name,
        (
            select coalesce(sum(net_qty), 0) from {{ ref('mart_daily_inventory_movements') }}
            where history_activity_code = 'RECEIPT'
        ) as mart_qty,
        (select coalesce(sum(adj_qty), 0) from history) as history_qty,
        (
            select coalesce(sum(history_rows), 0) from {{ ref('mart_daily_inventory_movements') }}
            where history_activity_code = 'RECEIPT'
        ) as mart_rows,
        (select count(*) from history) as history_rows
    union all
    select
        'receipts against ASNs' as check_name,
        (
            select coalesce(sum(history_received_qty), 0)
            from {{ ref('mart_inbound_receipts') }}
        ) as mart_qty,
        (
            select coalesce(sum(history.adj_qty), 0) from history
            inner join asn_lpns on
                history.container_nbr = asn_lpns.container_nbr
                and history.facility_id = asn_lpns.facility_id
        ) as history_qty,
        (
            select coalesce(sum(receipt_history_rows), 0)
            from {{ ref('mart_inbound_receipts') }}
        ) as mart_rows,
        (
            select count(*) from history
            inner join asn_lpns on
                history.container_nbr = asn_lpns.container_nbr
                and history.facility_id = asn_lpns.facility_id
        ) as history_rows
)

select * from checks
where mart_qty <> history_qty or mart_rows <> history_rows
