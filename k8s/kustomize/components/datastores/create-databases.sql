-- One database per subgraph, matching the per-service DATABASE_URL secrets.
CREATE DATABASE users;
CREATE DATABASE products;
CREATE DATABASE orders;
