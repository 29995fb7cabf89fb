"""The journal of one class and subject: its spec (``spec``), what a parse expects (``frame``), the
map of where things are (``map``), the parsers of its tabs (``parse``, ``lessons``, ``period_tab``),
and the cells the service writes into it (``render``).
"""
