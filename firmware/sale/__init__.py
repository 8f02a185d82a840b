"""The sale: the flow's state machine, the journal on flash, money formatting."""
