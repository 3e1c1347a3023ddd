-- After the last read-back: the WMS's end state beside what the system of record did.
-- order_result: each order line's status and shipped quantity in the WMS, against the units
-- the pick log put into LPNs that the system of record shipped.
-- stock_result: each item's on-hand quantity in the facility, against the quantity at the
-- start less what the pick log picked plus what the dock received.
CREATE VIEW fulfilment.order_result AS
WITH picked AS (
    SELECT p.order_nbr, p.item_code, sum(p.qty) AS qty
    FROM fulfilment.pick_log p
    JOIN fulfilment.lpn_shipment s ON s.container_nbr = p.to_container_nbr
    WHERE p.action_code = 'Pick'
    GROUP BY 1, 2
)
SELECT o.order_nbr, l.seq_nbr, l.item_code, l.ord_qty,
       coalesce(p.qty, 0) AS shipped_by_us,
       st.description AS wms_status,
       d.shipped_qty AS wms_shipped_qty,
       st.code = 'SHIPPED' AND d.shipped_qty = coalesce(p.qty, 0) AS ok
FROM fulfilment.sales_order o
JOIN fulfilment.sales_order_line l USING (order_nbr)
LEFT JOIN picked p ON p.order_nbr = o.order_nbr AND p.item_code = l.item_code
LEFT JOIN fulfilment_wms.order_hdr h
       ON h.order_nbr = o.order_nbr AND h.facility_id_key = o.facility_code
LEFT JOIN fulfilment_wms.order_status st ON st.id = h.status_id
LEFT JOIN fulfilment_wms.order_dtl d ON d.order_id = h.id AND d.seq_nbr = l.seq_nbr;

CREATE VIEW fulfilment.stock_result AS
WITH items AS (
    SELECT item_code FROM fulfilment.sales_order_line
    UNION SELECT item_code FROM fulfilment.asn_line
), picked AS (
    SELECT item_code, sum(qty) AS qty FROM fulfilment.pick_log
    WHERE action_code = 'Pick' GROUP BY 1
), received AS (
    SELECT e ->> 'item_code' AS item_code, sum((e ->> 'qty')::numeric) AS qty
    FROM fulfilment.asn_receipt, jsonb_array_elements(items) AS e GROUP BY 1
), at_start AS (
    SELECT item_code, sum(qty) AS qty FROM fulfilment.stock_at_start GROUP BY 1
), now AS (
    SELECT i.item_id_key AS item_code, sum(i.curr_qty) AS qty
    FROM fulfilment_wms.inventory i JOIN fulfilment.flow_run r
         ON i.facility_id_key = r.facility_code
    GROUP BY 1
)
SELECT items.item_code,
       coalesce(s.qty, 0) AS at_start,
       coalesce(p.qty, 0) AS picked,
       coalesce(r.qty, 0) AS received,
       coalesce(s.qty, 0) - coalesce(p.qty, 0) + coalesce(r.qty, 0) AS expected,
       coalesce(n.qty, 0) AS wms_on_hand,
       coalesce(s.qty, 0) - coalesce(p.qty, 0) + coalesce(r.qty, 0) = coalesce(n.qty, 0) AS ok
FROM items
LEFT JOIN at_start s USING (item_code)
LEFT JOIN picked p USING (item_code)
LEFT JOIN received r USING (item_code)
LEFT JOIN now n USING (item_code);
