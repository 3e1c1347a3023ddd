"""How the simulator behaves where Oracle's guide is silent and our clients must not assume.

By default the simulator takes the convenient reading (it applies the PATCH fields no Oracle page
lists, and records `transaction_ref_nbr` on inventory created by POST). Tests switch a reading off
to show that a client survives a WMS that behaves otherwise (docs/api-contract.md H4-H6, G4).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Undocumented:
    patch_fields: bool = True
    """False: PATCH accepts the undocumented writable fields (`updates.UNDOCUMENTED`) and answers
    200, but does not change them, as a WMS that ignores fields it does not know might."""
    create_ref: bool = True
    """False: `POST entity/inventory/` accepts `options.transaction_ref_nbr` but does not carry
    it into inventory history."""
    run_template_answer: str = "run_nbr"
    """The body of run_template's and run_manual's 202 (docs/api-contract.md L3): `run_nbr`
    (`{"run_nbr": n}`), `wave_nbr` (`{"wave_nbr": "n"}`) or `empty` (no body)."""
    receive_answer: str = "record"
    """`entity/iblpn/receive`'s answer (L17): `record` (200, the IBLPN in read shape) or
    `empty` (204)."""
    item_code_as_barcode: bool = True
    """True: `item_barcode` of pick_confirm and receive also matches the item's code (L11);
    False: the barcode only."""
    legacy_action_codes: bool = True
    """True: pick_confirm still takes the action codes Close, Complete and Short (owmol 24D lists
    them); False: 400 naming `action_code`, as a WMS where `close_lpn` (REST 21D), `wave_complete`
    (REST 24D) and `short_flg` replaced them, as those pages say (L11)."""
    zero_inventory_removed: bool = False
    """True: an inventory row whose `curr_qty` a change takes to zero is deleted (N3; Oracle does
    not say whether it is); False: it stays, at zero (`data/purge.remove_zero_inventory`)."""
