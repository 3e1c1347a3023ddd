-- Step "ship": every LPN the cell closed, shipped from the facility's first dock door.
INSERT INTO fulfilment.lpn_shipment (facility_code, container_nbr, locn_barcode)
SELECT DISTINCT p.facility_code, p.to_container_nbr,
       (SELECT min(l.barcode) FROM fulfilment_wms.location l
        WHERE l.facility_id_key = p.facility_code AND l.location_type_id_key = 'DOCK')
FROM fulfilment.pick_log p
WHERE p.action_code = 'Close';
