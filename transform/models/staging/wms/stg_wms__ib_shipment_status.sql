-- The ib_shipment_status code table: id, code, description (no timestamps: the latest load wins).
{{ wms_code_table('ib_shipment_status') }}
