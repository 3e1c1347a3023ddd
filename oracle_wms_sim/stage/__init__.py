"""The JSON stage interface: what each stage entity takes (specs), a posted message's structural
checks (messages), one record's CREATE/UPDATE/DELETE of an order or an ASN (documents), and the
routes, message storage and background worker that tie them together (interface).
"""
