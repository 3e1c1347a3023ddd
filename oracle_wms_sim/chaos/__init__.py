"""What happens to a client from outside its control: deterministic fault plans acted on at the
transport (`faults`), and background churn, a WMS that keeps changing data while a client pages
(`churn`).
"""
