-- Step "waves": one manual wave of every line of the run's orders, on the run's template (a
-- manual wave waves exactly the lines it names; a template wave would select every open order
-- of the facility, the WMS's own included).
INSERT INTO fulfilment.wave_request (wave_ref, facility_code, template_name, orders)
SELECT format('WAVE-%s-1', r.tag), r.facility_code, r.wave_template,
       jsonb_agg(jsonb_build_object('order_nbr', l.order_nbr, 'seq_nbr', l.seq_nbr)
                 ORDER BY l.order_nbr, l.seq_nbr)
FROM fulfilment.flow_run r
JOIN fulfilment.sales_order o ON o.facility_code = r.facility_code
JOIN fulfilment.sales_order_line l USING (order_nbr)
GROUP BY r.tag, r.facility_code, r.wave_template;
