// Runs s3rver in its own process and prints {"port":N} once listening. A separate process matters when
// this process reads the bucket through an s3fs mount: a synchronous read there would otherwise wait
// on a server that shares its blocked event loop.
import S3rver from 's3rver';

const [dir, ...buckets] = process.argv.slice(2);
const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name })) });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
process.stdin.on('end', () => void server.close().then(() => process.exit(0))); // parent gone
process.stdin.resume();
