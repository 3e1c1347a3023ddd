-- The run's orders and ASN, for stock the WMS holds (after the first read-back into
-- fulfilment_wms). An item's available quantity is what the WMS would allocate: per ACTIVE
-- location, its unlocked units outside any LPN less what open allocations (Created, In Picking)
-- hold there, when above zero. Order n has two lines of 1 to 5 units of items with at least 40
-- available (by item code); order 1 also asks 3 units more than all there is of the item with
-- the least available under 40 (above zero): that line ships short. The ASN brings more of the
-- first two items.

INSERT INTO fulfilment.stock_at_start (item_code, location_barcode, qty)
SELECT i.item_id_key, coalesce(i.location_id_key, ''), sum(i.curr_qty)
FROM fulfilment_wms.inventory i
JOIN fulfilment.flow_run r ON i.facility_id_key = r.facility_code
GROUP BY 1, 2;

CREATE TEMPORARY TABLE item_available ON COMMIT DROP AS
WITH on_hand AS (
    SELECT i.item_id, i.location_id, sum(i.curr_qty) AS qty
    FROM fulfilment_wms.inventory i
    JOIN fulfilment.flow_run r ON i.facility_id_key = r.facility_code
    JOIN fulfilment_wms.location l ON l.id = i.location_id
    WHERE l.location_type_id_key = 'ACTIVE' AND i.container_id IS NULL AND NOT i.lock_flg
    GROUP BY 1, 2
), held AS (
    SELECT a.item_id, a.from_location_id AS location_id, sum(a.alloc_qty - a.packed_qty) AS qty
    FROM fulfilment_wms.allocation a
    JOIN fulfilment_wms.allocation_status s ON s.id = a.status_id
    WHERE s.code IN ('CREATED', 'IN_PICKING')
    GROUP BY 1, 2
)
SELECT it.code AS item_code, sum(greatest(o.qty - coalesce(h.qty, 0), 0)) AS available
FROM on_hand o
LEFT JOIN held h USING (item_id, location_id)
JOIN fulfilment_wms.item it ON it.id = o.item_id
GROUP BY it.code;

CREATE TEMPORARY TABLE candidate_item ON COMMIT DROP AS
SELECT item_code, row_number() OVER (ORDER BY item_code) AS n, available
FROM item_available WHERE available >= 40;

INSERT INTO fulfilment.sales_order (order_nbr, facility_code, order_type, cust_name)
SELECT format('SO-%s-%s', r.tag, o), r.facility_code, 'STD', format('Customer %s', o)
FROM fulfilment.flow_run r, generate_series(1, r.orders) AS o;

INSERT INTO fulfilment.sales_order_line (order_nbr, seq_nbr, item_code, ord_qty)
SELECT format('SO-%s-%s', r.tag, o), k, c.item_code, 1 + (o + k) % 5
FROM fulfilment.flow_run r, generate_series(1, r.orders) AS o, generate_series(1, 2) AS k
JOIN candidate_item c ON true
WHERE c.n = 1 + ((o - 1) * 2 + k - 1) % (SELECT count(*) FROM candidate_item);

INSERT INTO fulfilment.sales_order_line (order_nbr, seq_nbr, item_code, ord_qty)
SELECT format('SO-%s-1', r.tag), 3, a.item_code, a.available + 3
FROM fulfilment.flow_run r,
     (SELECT item_code, available FROM item_available
      WHERE available > 0 AND available < 40 ORDER BY available, item_code LIMIT 1) a;

INSERT INTO fulfilment.asn (shipment_nbr, facility_code, trailer_nbr)
SELECT format('ASN-%s', r.tag), r.facility_code, format('TRL-%s', r.tag) FROM fulfilment.flow_run r;

INSERT INTO fulfilment.asn_line (shipment_nbr, seq_nbr, item_code, shipped_qty)
SELECT format('ASN-%s', r.tag), c.n, c.item_code, 14 - 4 * c.n
FROM fulfilment.flow_run r JOIN candidate_item c ON c.n <= 2;
