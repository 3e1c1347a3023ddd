-- Step "picks": the pick-to-light cell's log, built from what the wave allocated (read back
-- into fulfilment_wms): each allocation of a run's order line picked in full from its location
-- into the order's outbound LPN, then each LPN closed (Packed), in that order (`pick_nbr`).
CREATE TEMPORARY TABLE picked ON COMMIT DROP AS
SELECT h.order_nbr, d.seq_nbr, a.id AS allocation_id, a.item_id_key AS item_code,
       a.alloc_qty AS qty, a.from_location_id_key AS pick_location, w.run_nbr::text AS wave_nbr,
       format('OB%s%s', r.tag, lpad(dense_rank() OVER (ORDER BY h.order_nbr)::text, 3, '0'))
           AS to_container_nbr
FROM fulfilment.flow_run r
JOIN fulfilment.sales_order o ON o.facility_code = r.facility_code
JOIN fulfilment_wms.order_hdr h ON h.order_nbr = o.order_nbr AND h.facility_id_key = r.facility_code
JOIN fulfilment_wms.order_dtl d ON d.order_id = h.id
JOIN fulfilment_wms.allocation a ON a.order_dtl_id = d.id
JOIN fulfilment_wms.allocation_status s ON s.id = a.status_id
LEFT JOIN fulfilment_wms.wave w ON w.id = a.wave_id
WHERE s.code = 'CREATED' AND a.alloc_qty > 0;

INSERT INTO fulfilment.pick_log (pick_nbr, facility_code, action_code, wave_nbr,
                                 order_nbr, item_code, qty, pick_location, to_container_nbr)
SELECT format('PICK-%s-%s', r.tag, lpad(n::text, 4, '0')), r.facility_code, 'Pick',
       p.wave_nbr, p.order_nbr, p.item_code, p.qty, p.pick_location, p.to_container_nbr
FROM fulfilment.flow_run r,
     (SELECT *, row_number() OVER (ORDER BY order_nbr, seq_nbr, allocation_id) AS n
      FROM picked) p;

INSERT INTO fulfilment.pick_log (pick_nbr, facility_code, action_code,
                                 to_container_nbr)
SELECT format('PICK-%s-%s', r.tag, lpad(n::text, 4, '0')), r.facility_code, 'Close',
       c.to_container_nbr
FROM fulfilment.flow_run r,
     (SELECT to_container_nbr,
             (SELECT count(*) FROM picked) + row_number() OVER (ORDER BY to_container_nbr) AS n
      FROM picked GROUP BY to_container_nbr) c;
