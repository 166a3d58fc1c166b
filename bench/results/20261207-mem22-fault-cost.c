#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
int main(){ for(int r=0;r<5;r++){ size_t n=16<<20; char*p=mmap(0,n,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
 double a=now(); for(size_t i=0;i<n;i+=4096)p[i]=2; double b=now();
 madvise(p,n,MADV_DONTNEED); double c=now(); for(size_t i=0;i<n;i+=4096)p[i]=3; double d=now();
 printf("fresh mmap %.2f us/fault, after DONTNEED %.2f us/fault\n",(b-a)/(n/4096),(d-c)/(n/4096)); munmap(p,n);} return 0;}
