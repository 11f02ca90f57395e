DROP TABLE tree_heads;
