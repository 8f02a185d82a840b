"""The screens: drawing each screen, and turning the flow's view into screen calls."""
