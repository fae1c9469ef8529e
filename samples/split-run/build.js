require("fs").mkdirSync("dist", { recursive: true });
require("fs").copyFileSync("src/server.js", "dist/server.js");
