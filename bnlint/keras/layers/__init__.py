"""Layer families: each module registers its rules with ``@layer_rule``."""
