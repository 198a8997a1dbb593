/*
 * actors/kubelet/runc_cli — `zkube runc-cleanup`: removes everything the
 * runc driver made for one node of a cluster (containers, sandboxes, pod
 * IPs, the bridge and unreachable route, cgroups). `zkube down` runs it
 * after the kubelets have stopped, since a kubelet's own shutdown leaves
 * its containers running on purpose (a restarted kubelet adopts them). It
 * takes the kubelet's own flags, so the supervisor can reuse its argv.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "actors/kubelet/runc.h"
#include "runtime/config.h"

static int s_usage(FILE *f)
{
    fprintf(f, "usage: zkube runc-cleanup --node NAME --pod-cidr CIDR --cluster-cidr CIDR "
               "--cluster-tag TAG [--state-dir DIR] [--driver NAME]\n"
               "  DIR defaults to $ZKUBE_HOME/kubelet/NAME/driver (the kubelet's); a driver\n"
               "  other than runc, or no state, means nothing to do.\n");
    return f == stderr ? 2 : 0;
}

int kubelet_runc_cleanup_main(int argc, char **argv)
{
    static const struct option opts[] = {{"state-dir", required_argument, NULL, 's'},
                                         {"node", required_argument, NULL, 'n'},
                                         {"pod-cidr", required_argument, NULL, 'p'},
                                         {"cluster-cidr", required_argument, NULL, 'c'},
                                         {"cluster-tag", required_argument, NULL, 't'},
                                         {"driver", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    kl_driver_config_t cfg = {0};
    const char *driver = "runc";
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 's':
            cfg.state_dir = optarg;
            break;
        case 'n':
            cfg.node = optarg;
            break;
        case 'p':
            cfg.pod_cidr = optarg;
            break;
        case 'c':
            cfg.cluster_cidr = optarg;
            break;
        case 't':
            cfg.cluster_tag = optarg;
            break;
        case 'd':
            driver = optarg;
            break;
        case 'h':
            return s_usage(stdout);
        default:
            return s_usage(stderr);
        }
    }
    if (!cfg.node || !cfg.pod_cidr || !cfg.cluster_cidr || !cfg.cluster_tag)
        return s_usage(stderr);
    char err[512] = "", dir[PATH_MAX], rel[PATH_MAX];
    struct stat sb;
    if (!cfg.state_dir) {
        rt_config_t rc;
        if (rt_config_load(&rc, err, sizeof err) < 0) {
            fprintf(stderr, "zkube runc-cleanup: %s\n", err);
            return 1;
        }
        snprintf(rel, sizeof rel, "kubelet/%s/driver", cfg.node);
        cfg.state_dir = rt_path(&rc, rel, dir, sizeof dir);
    }
    if (strcmp(driver, "runc") != 0 || stat(cfg.state_dir, &sb) < 0)
        return 0;
    int rc = kubelet_runc_cleanup(&cfg, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "zkube runc-cleanup: %s\n", err);
        return 1;
    }
    return 0;
}
