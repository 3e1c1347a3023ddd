-- The location_type code table: id, code, description (no timestamps: the latest load wins).
{{ wms_code_table('location_type') }}
