"""The simulator as a server: the threaded HTTP/1.1 transport where faults act, top-level routing
(token endpoint, authentication, `/_sim/`, the entity module), Basic and bearer authentication,
the OAuth token endpoint and its tokens, the `/_sim/` control surface, the request log, and
`Simulator`, the one entry point that assembles all of it.
"""
