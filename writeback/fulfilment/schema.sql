-- The fulfilment flow's system of record (`make demo-fulfilment`, tests/test_fulfilment_flow.py).
--
-- What a warehouse's own system keeps beside the WMS: sales orders and their lines, the ASN a
-- supplier sent, the waves it asks for, the log of a pick-to-light / robot cell, the LPNs it
-- ships and the LPNs its receiving dock scans. The tables the flow writes back are the streams
-- of tap-postgres (`fulfilment-<table>`); `meltano.yml` maps each to a target-oracle-wms action.
-- The WMS's answers are read back into schema `fulfilment_wms` (`meltano run fulfilment-readback`,
-- one table per entity); the final query (result.sql) checks the WMS against these tables.
-- Recreated on every run; `flow_run` holds the run's tag, which makes every business key unique
-- (order, ASN and LPN numbers), so the target's ledger of earlier runs never meets them again.

DROP SCHEMA IF EXISTS fulfilment CASCADE;
CREATE SCHEMA fulfilment;

CREATE TABLE fulfilment.flow_run (
    tag text PRIMARY KEY,
    facility_code text NOT NULL,
    orders integer NOT NULL CHECK (orders BETWEEN 1 AND 50),
    wave_template text NOT NULL
);

-- On-hand quantity per item and location at the start (from the first read-back): what the
-- final query measures the WMS's movements against.
CREATE TABLE fulfilment.stock_at_start (
    item_code text NOT NULL,
    location_barcode text NOT NULL,
    qty numeric NOT NULL,
    PRIMARY KEY (item_code, location_barcode)
);

CREATE TABLE fulfilment.sales_order (
    order_nbr text PRIMARY KEY,
    facility_code text NOT NULL,
    order_type text NOT NULL,
    cust_name text NOT NULL
);

CREATE TABLE fulfilment.sales_order_line (
    order_nbr text NOT NULL REFERENCES fulfilment.sales_order,
    seq_nbr integer NOT NULL,
    item_code text NOT NULL,
    ord_qty numeric NOT NULL CHECK (ord_qty > 0),
    PRIMARY KEY (order_nbr, seq_nbr)
);

CREATE TABLE fulfilment.asn (
    shipment_nbr text PRIMARY KEY,
    facility_code text NOT NULL,
    trailer_nbr text
);

CREATE TABLE fulfilment.asn_line (
    shipment_nbr text NOT NULL REFERENCES fulfilment.asn,
    seq_nbr integer NOT NULL,
    item_code text NOT NULL,
    shipped_qty numeric NOT NULL CHECK (shipped_qty > 0),
    PRIMARY KEY (shipment_nbr, seq_nbr)
);

-- Write-back streams ------------------------------------------------------------------------

-- The stage documents (target action `stage`): one row per order / ASN, lines as JSON.
CREATE TABLE fulfilment.order_document (
    facility_code text NOT NULL,
    order_nbr text NOT NULL,
    order_type text NOT NULL,
    cust_name text,
    lines jsonb NOT NULL,
    PRIMARY KEY (facility_code, order_nbr)
);

CREATE TABLE fulfilment.asn_document (
    facility_code text NOT NULL,
    shipment_nbr text NOT NULL,
    trailer_nbr text,
    lines jsonb NOT NULL,
    PRIMARY KEY (facility_code, shipment_nbr)
);

-- Waves to run (target action `run_wave`): a manual wave of the listed order lines.
CREATE TABLE fulfilment.wave_request (
    wave_ref text PRIMARY KEY,
    facility_code text NOT NULL,
    template_name text NOT NULL,
    orders jsonb NOT NULL
);

-- The pick-to-light / robot log (target action `pick_confirm`): a Pick per allocation picked,
-- then a Close per outbound LPN. `pick_nbr` numbers them in the order the cell confirmed them
-- (zero-padded, so text order is that order): the stream is read in that order (meltano.yml).
CREATE TABLE fulfilment.pick_log (
    pick_nbr text PRIMARY KEY,
    facility_code text NOT NULL,
    action_code text NOT NULL CHECK (action_code IN ('Pick', 'Close')),
    wave_nbr text,
    order_nbr text,
    item_code text,
    qty numeric CHECK (qty > 0),
    pick_location text,
    to_container_nbr text NOT NULL
);

-- Packed outbound LPNs to ship (target action `ship`, the existing oblpn operation).
CREATE TABLE fulfilment.lpn_shipment (
    facility_code text NOT NULL,
    container_nbr text NOT NULL,
    locn_barcode text NOT NULL,
    PRIMARY KEY (facility_code, container_nbr)
);

-- Inbound LPNs the receiving dock scanned against the ASN (target action `receive`).
CREATE TABLE fulfilment.asn_receipt (
    facility_code text NOT NULL,
    container_nbr text NOT NULL,
    shipment_nbr text NOT NULL REFERENCES fulfilment.asn,
    dock text,
    items jsonb NOT NULL,
    PRIMARY KEY (facility_code, container_nbr)
);
