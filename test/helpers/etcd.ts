// The etcd cluster lives with the benchmarks (its etcd step runs one too); the tests use the same.
export { EtcdCluster, etcdAvailable } from '../../bench/etcd.js';
