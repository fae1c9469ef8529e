const http = require("http");
http.createServer((q, r) => r.end("opt")).listen(3000);
