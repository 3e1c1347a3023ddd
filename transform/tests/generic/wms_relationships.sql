{#-
  dbt's relationships test, except that a child whose parent was deleted in the WMS passes: the
  WMS deletes orders, purges history and drops code-table rows without touching the rows that
  pointed at them (their foreign key keeps the id; docs/api-behaviour.md "Rows that disappear"),
  and staging leaves the deleted parent out. `parent` names the parent's loaded table (a source
  of `wms`), where the loader kept the deleted row marked with _sdc_deleted_at. With a loader
  that hard-deletes, the mark is gone and such a child fails, as a broken reference would.
-#}
{% test wms_relationships(model, column_name, to, field, parent) %}
select child.{{ column_name }}
from {{ model }} as child
left join {{ to }} as parent_row on parent_row.{{ field }} = child.{{ column_name }}
where child.{{ column_name }} is not null
  and parent_row.{{ field }} is null
  and child.{{ column_name }} not in ({{ wms_deleted_ids(source('wms', parent)) }})
{% endtest %}
