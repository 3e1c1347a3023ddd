-- Inbound shipments (ASNs): what was expected against what was received, as Oracle's IB
-- Shipment screen and its detail show them (ib_shipment_dtl "Shipped Qty" and "Received Qty"):
-- expected_qty and received_qty sum the ASN's lines; the status by CODE from the loaded
-- ib_shipment_status table. Our own: variance_qty, received_ratio, lpns, and the receipts seen
-- in the inventory history (RECEIPT rows of the ASN's inbound LPNs: history container_nbr =
-- iblpn.container_nbr, iblpn.shipment_id = ASN) with their first and last instants.
with shipments as (
    select * from {{ ref('stg_wms__ib_shipment') }}
),

statuses as (
    select
        ib_shipment_status_id,
        ib_shipment_status_code
    from {{ ref('stg_wms__ib_shipment_status') }}
),

lines as (
    select
        shipment_id,
        count(*) as asn_lines,
        sum(shipped_qty) as expected_qty,
        sum(received_qty) as received_qty
    from {{ ref('stg_wms__ib_shipment_dtl') }}
    group by shipment_id
),

receipts as (
    select
        iblpn.shipment_id,
        count(*) as receipt_history_rows,
        sum(history.adj_qty) as history_received_qty,
        min(history.create_ts) as first_receipt_ts,
        max(history.create_ts) as last_receipt_ts
    from {{ ref('stg_wms__inventory_history') }} as history
    inner join {{ ref('stg_wms__iblpn') }} as iblpn
        on
            history.container_nbr = iblpn.container_nbr
            and history.facility_id = iblpn.facility_id
    where
        history.history_activity_code = 'RECEIPT'
        and iblpn.shipment_id is not null
    group by iblpn.shipment_id
),

lpns as (
    select
        shipment_id,
        count(*) as lpns
    from {{ ref('stg_wms__iblpn') }}
    where shipment_id is not null
    group by shipment_id
)

select
    shipments.shipment_id,
    shipments.shipment_nbr,
    shipments.facility_id,
    shipments.facility_code,
    shipments.vendor_code,
    statuses.ib_shipment_status_code,
    shipments.exp_arrival_date,
    shipments.verified_ts,
    cast(coalesce(lines.expected_qty, 0) as numeric(18, 3)) as expected_qty,
    cast(coalesce(lines.received_qty, 0) as numeric(18, 3)) as received_qty,
    cast(coalesce(lines.received_qty, 0) - coalesce(lines.expected_qty, 0) as numeric(18, 3))
        as variance_qty,
    cast(coalesce(receipts.history_received_qty, 0) as numeric(18, 3)) as history_received_qty,
    receipts.first_receipt_ts,
    receipts.last_receipt_ts,
    coalesce(lines.asn_lines, 0) as asn_lines,
    coalesce(lpns.lpns, 0) as lpns,
    case
        when coalesce(lines.expected_qty, 0) > 0
            then
                cast(
                    round(coalesce(lines.received_qty, 0) / lines.expected_qty, 4) as numeric(9, 4)
                )
    end as received_ratio,
    coalesce(receipts.receipt_history_rows, 0) as receipt_history_rows
from shipments
left join statuses on shipments.ib_shipment_status_id = statuses.ib_shipment_status_id
left join lines on shipments.shipment_id = lines.shipment_id
left join lpns on shipments.shipment_id = lpns.shipment_id
left join receipts on shipments.shipment_id = receipts.shipment_id
