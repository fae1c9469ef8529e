const http = require("http");
http.createServer((q, r) => r.end("home")).listen(3000);
