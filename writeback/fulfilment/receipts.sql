-- Step "receive": the receiving dock's scans of the ASN's LPNs at the facility's first dock
-- door: the first LPN holds the first line's quantity and one unit of the second line, the
-- second LPN the rest of the second line (every line received in full).
INSERT INTO fulfilment.asn_receipt (facility_code, container_nbr, shipment_nbr, dock, items)
SELECT a.facility_code, format('IB%s%s', r.tag, lpn.n), a.shipment_nbr,
       (SELECT min(l.barcode) FROM fulfilment_wms.location l
        WHERE l.facility_id_key = a.facility_code AND l.location_type_id_key = 'DOCK'),
       lpn.items
FROM fulfilment.flow_run r
JOIN fulfilment.asn a ON a.shipment_nbr = format('ASN-%s', r.tag)
JOIN LATERAL (
    SELECT 1 AS n, jsonb_agg(jsonb_build_object('item_code', l.item_code,
                                                'qty', CASE l.seq_nbr WHEN 1 THEN l.shipped_qty
                                                                       ELSE 1 END)
                             ORDER BY l.seq_nbr) AS items
    FROM fulfilment.asn_line l WHERE l.shipment_nbr = a.shipment_nbr
    UNION ALL
    SELECT 2, jsonb_agg(jsonb_build_object('item_code', l.item_code, 'qty', l.shipped_qty - 1)
                        ORDER BY l.seq_nbr)
    FROM fulfilment.asn_line l WHERE l.shipment_nbr = a.shipment_nbr AND l.seq_nbr > 1
) lpn ON true;
