-- Sample reverse-ETL source for the `postgres-to-wms` job (`make demo-writeback`).
--
-- One table per write action; tap-postgres names each stream `wms_writeback-<table>` and
-- `meltano.yml` maps those names to actions (target-oracle-wms `stream_actions`). The rows name
-- things by business keys that exist in the simulator's demo warehouse (`oracle-wms-sim serve`,
-- seed 42, scale 1): facility F1, its locations, items, open orders and unshipped outbound LPNs.
-- Rerunning the job changes nothing: the target's ledger and inventory history make each row a
-- one-time write. Recreating this schema keeps the same keys, so it stays a no-op.

DROP SCHEMA IF EXISTS wms_writeback CASCADE;
CREATE SCHEMA wms_writeback;

-- Inventory adjustments in active locations: a delta (adjustment_qty) or a count (actual_qty).
CREATE TABLE wms_writeback.inventory_adjustment (
    id integer PRIMARY KEY,
    facility_code text NOT NULL,
    location_barcode text NOT NULL,
    item_code text NOT NULL,
    adjustment_qty numeric,
    actual_qty numeric,
    reason_code text NOT NULL,
    transaction_ref_nbr text
);
INSERT INTO wms_writeback.inventory_adjustment VALUES
    (1, 'F1', 'B-001-03-A', 'ITM000189', 5, NULL, 'CC', 'WRITEBACK-DEMO-1'),
    (2, 'F1', 'B-001-03-D', 'ITM000147', NULL, 700, 'CC', NULL);

-- Updates of writable order header fields, keyed by facility and order number.
CREATE TABLE wms_writeback.order_hdr (
    facility_code text NOT NULL,
    order_nbr text NOT NULL,
    priority integer,
    cust_field_1 text,
    PRIMARY KEY (facility_code, order_nbr)
);
INSERT INTO wms_writeback.order_hdr VALUES
    ('F1', 'ORD0000007', 1, 'expedite'),
    ('F1', 'ORD0000008', 2, 'customer called');

-- Packed or Loaded outbound LPNs to ship (Oracle ships no other), each with the barcode of the
-- final shipping location (required by Oracle's Ship OBLPN; here a dock door of F1).
CREATE TABLE wms_writeback.oblpn_shipment (
    facility_code text NOT NULL,
    container_nbr text NOT NULL,
    locn_barcode text NOT NULL,
    PRIMARY KEY (facility_code, container_nbr)
);
INSERT INTO wms_writeback.oblpn_shipment VALUES
    ('F1', 'OB00000010', 'B-000-01-B'),
    ('F1', 'OB00000012', 'B-000-01-B');
