-- Step "stage": the orders and the ASN as stage documents (one row each, lines as JSON).
INSERT INTO fulfilment.order_document (facility_code, order_nbr, order_type, cust_name, lines)
SELECT o.facility_code, o.order_nbr, o.order_type, o.cust_name,
       jsonb_agg(
           jsonb_build_object('seq_nbr', l.seq_nbr, 'item_code', l.item_code, 'ord_qty', l.ord_qty)
           ORDER BY l.seq_nbr
       )
FROM fulfilment.sales_order o JOIN fulfilment.sales_order_line l USING (order_nbr)
GROUP BY o.facility_code, o.order_nbr, o.order_type, o.cust_name;

INSERT INTO fulfilment.asn_document (facility_code, shipment_nbr, trailer_nbr, lines)
SELECT a.facility_code, a.shipment_nbr, a.trailer_nbr,
       jsonb_agg(
           jsonb_build_object('seq_nbr', l.seq_nbr, 'item_code', l.item_code,
                              'shipped_qty', l.shipped_qty)
           ORDER BY l.seq_nbr
       )
FROM fulfilment.asn a JOIN fulfilment.asn_line l USING (shipment_nbr)
GROUP BY a.facility_code, a.shipment_nbr, a.trailer_nbr;
