-- The history_activity code table: id, code, description (no timestamps: the latest load wins).
{{ wms_code_table('history_activity') }}
