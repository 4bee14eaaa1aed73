"""Eval-awareness probe: can a model tell replayed production traffic from real use and from test suites?"""
