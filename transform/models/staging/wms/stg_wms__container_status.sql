-- The container_status code table: id, code, description (no timestamps: the latest load wins).
{{ wms_code_table('container_status') }}
